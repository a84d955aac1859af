WITH `t2` AS (
  SELECT
    `t1`.`order_id`,
    `t1`.`customer_id`,
    `t1`.`ordered_at`,
    `t1`.`status`,
    `t1`.`channel`,
    `t1`.`subtotal`,
    `t1`.`discount`,
    `t1`.`shipping_fee`,
    `t1`.`points_used`,
    `t1`.`total`,
    `t1`.`points_earned`,
    `t1`.`coupon_code`,
    `t1`.`subscription_id`,
    `t1`.`payment_method`,
    `t1`.`shipping_prefecture`,
    `t1`.`is_gift`,
    `t1`.`order_date`,
    (
      ROW_NUMBER() OVER (
        PARTITION BY `t1`.`customer_id`
        ORDER BY `t1`.`ordered_at` ASC, `t1`.`order_id` ASC
      ) - 1
    ) + 1 AS `order_no`
  FROM (
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
  ) AS `t1`
)
SELECT
  *
FROM (
  SELECT
    `t9`.`channel`,
    `t9`.`customers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t9`.`customers` AS FLOAT64),
            NULLIF(
              SUM(`t9`.`customers`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `customer_share`,
    `t9`.`revenue`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(CAST(`t9`.`revenue` AS FLOAT64), NULLIF(`t9`.`customers`, 0)) * 1
        ) + 0.5
      ) AS INT64),
      1
    ) AS `average_order_value`,
    `t9`.`next_customers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(CAST(`t9`.`next_customers` AS FLOAT64), NULLIF(`t9`.`customers`, 0)) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `next_rate`
  FROM (
    SELECT
      `t8`.`channel`,
      COUNT(`t8`.`customer_id`) AS `customers`,
      SUM(`t8`.`total`) AS `revenue`,
      COUNT(`t8`.`buyer`) AS `next_customers`
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
        `t7`.`order_no`,
        `t6`.`buyer`
      FROM (
        SELECT
          `t3`.`order_id`,
          `t3`.`customer_id`,
          `t3`.`ordered_at`,
          `t3`.`status`,
          COALESCE(`t3`.`channel`, '(不明)') AS `channel`,
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
          `t3`.`order_no`
        FROM `t2` AS `t3`
        WHERE
          `t3`.`order_no` = 2
      ) AS `t7`
      LEFT OUTER JOIN (
        SELECT
          `t3`.`customer_id` AS `buyer`
        FROM `t2` AS `t3`
        WHERE
          `t3`.`order_no` = 3
      ) AS `t6`
        ON `t7`.`customer_id` = `t6`.`buyer`
    ) AS `t8`
    GROUP BY
      1
  ) AS `t9`
) AS `t10`
ORDER BY
  `t10`.`customers` DESC,
  `t10`.`channel` ASC NULLS LAST
