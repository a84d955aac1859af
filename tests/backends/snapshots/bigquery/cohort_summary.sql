WITH `t1` AS (
  SELECT
    `t0`.`order_id`,
    `t0`.`customer_id`,
    `t0`.`ordered_at`,
    `t0`.`status`,
    `t0`.`channel`,
    `t0`.`subtotal`,
    `t0`.`discount`,
    `t0`.`shipping_fee`,
    `t0`.`points_used`,
    `t0`.`total`,
    `t0`.`points_earned`,
    `t0`.`coupon_code`,
    `t0`.`subscription_id`,
    `t0`.`payment_method`,
    `t0`.`shipping_prefecture`,
    `t0`.`is_gift`,
    DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
  FROM `orders` AS `t0`
  WHERE
    `t0`.`status` = 'completed'
    AND `t0`.`customer_id` IS NOT NULL
    AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
)
SELECT
  `t10`.`cohort_month`,
  `t10`.`new_customers`,
  `t10`.`first_day_revenue`,
  `t10`.`repeat_customers`,
  `t10`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t10`.`repeat_customers` AS FLOAT64), NULLIF(`t10`.`new_customers`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `repeat_rate`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t10`.`revenue` AS FLOAT64), `t10`.`new_customers`) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `revenue_per_customer`
FROM (
  SELECT
    `t9`.`cohort_month`,
    COUNT(`t9`.`customer_id`) AS `new_customers`,
    SUM(`t9`.`first_revenue`) AS `first_day_revenue`,
    SUM(IF(`t9`.`orders` >= 2, 1, 0)) AS `repeat_customers`,
    SUM(`t9`.`revenue`) AS `revenue`
  FROM (
    SELECT
      `t8`.`customer_id`,
      `t8`.`cohort_month`,
      COUNT(`t8`.`order_id`) AS `orders`,
      SUM(`t8`.`total`) AS `revenue`,
      SUM(IF(`t8`.`order_date` = `t8`.`first_date`, `t8`.`total`, 0)) AS `first_revenue`
    FROM (
      SELECT
        `t7`.`order_id`,
        `t7`.`customer_id`,
        `t7`.`ordered_at`,
        `t7`.`status`,
        `t7`.`channel`,
        `t7`.`subtotal`,
        `t7`.`discount`,
        `t7`.`shipping_fee`,
        `t7`.`points_used`,
        `t7`.`total`,
        `t7`.`points_earned`,
        `t7`.`coupon_code`,
        `t7`.`subscription_id`,
        `t7`.`payment_method`,
        `t7`.`shipping_prefecture`,
        `t7`.`is_gift`,
        `t7`.`order_date`,
        `t7`.`first_date`,
        `t7`.`cohort_month`,
        `t7`.`cohort_idx`,
        (
          (
            (
              EXTRACT(year FROM `t7`.`order_date`) * 12
            ) + EXTRACT(month FROM `t7`.`order_date`)
          ) - 1
        ) - `t7`.`cohort_idx` AS `months_since`
      FROM (
        SELECT
          `t3`.`order_id`,
          `t3`.`customer_id`,
          `t3`.`ordered_at`,
          `t3`.`status`,
          `t3`.`channel`,
          `t3`.`subtotal`,
          `t3`.`discount`,
          `t3`.`shipping_fee`,
          `t3`.`points_used`,
          `t3`.`total`,
          `t3`.`points_earned`,
          `t3`.`coupon_code`,
          `t3`.`subscription_id`,
          `t3`.`payment_method`,
          `t3`.`shipping_prefecture`,
          `t3`.`is_gift`,
          `t3`.`order_date`,
          `t6`.`first_date`,
          `t6`.`cohort_month`,
          `t6`.`cohort_idx`
        FROM `t1` AS `t3`
        INNER JOIN (
          SELECT
            `t4`.`customer_id`,
            `t4`.`first_date`,
            DATE_TRUNC(`t4`.`first_date`, MONTH) AS `cohort_month`,
            (
              (
                EXTRACT(year FROM `t4`.`first_date`) * 12
              ) + EXTRACT(month FROM `t4`.`first_date`)
            ) - 1 AS `cohort_idx`
          FROM (
            SELECT
              `t2`.`customer_id`,
              MIN(`t2`.`order_date`) AS `first_date`
            FROM `t1` AS `t2`
            GROUP BY
              1
          ) AS `t4`
        ) AS `t6`
          ON `t3`.`customer_id` = `t6`.`customer_id`
      ) AS `t7`
    ) AS `t8`
    GROUP BY
      1,
      2
  ) AS `t9`
  GROUP BY
    1
) AS `t10`
ORDER BY
  `t10`.`cohort_month` ASC NULLS LAST
