SELECT
  *
FROM (
  SELECT
    `t5`.*
    EXCEPT (`last_first_date`)
  FROM (
    SELECT
      `t4`.`first_month`,
      `t4`.`new_customers`,
      `t4`.`f2_customers`,
      `t4`.`last_first_date`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(CAST(`t4`.`f2_customers` AS FLOAT64), NULLIF(`t4`.`new_customers`, 0)) * 10000
          ) + 0.5
        ) AS INT64),
        10000
      ) AS `f2_rate`,
      DATE_DIFF(DATE(2026, 10, 31), `t4`.`last_first_date`, DAY) >= 90 AS `fully_observed`
    FROM (
      SELECT
        `t3`.`first_month`,
        COUNT(`t3`.`customer_id`) AS `new_customers`,
        SUM(`t3`.`converted`) AS `f2_customers`,
        MAX(`t3`.`first_date`) AS `last_first_date`
      FROM (
        SELECT
          `t2`.`customer_id`,
          `t2`.`first_date`,
          `t2`.`second_date`,
          DATE_TRUNC(`t2`.`first_date`, MONTH) AS `first_month`,
          IF(
            (
              `t2`.`second_date` IS NOT NULL
            )
            AND (
              DATE_DIFF(`t2`.`second_date`, `t2`.`first_date`, DAY) <= 90
            ),
            1,
            0
          ) AS `converted`
        FROM (
          SELECT
            `t1`.`customer_id`,
            `t1`.`order_date` AS `first_date`,
            LEAD(`t1`.`order_date`) OVER (PARTITION BY `t1`.`customer_id` ORDER BY `t1`.`order_date` ASC) AS `second_date`,
            ROW_NUMBER() OVER (PARTITION BY `t1`.`customer_id` ORDER BY `t1`.`order_date` ASC) - 1 AS `order_no`
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
        ) AS `t2`
        WHERE
          `t2`.`order_no` = 0
      ) AS `t3`
      GROUP BY
        1
    ) AS `t4`
  ) AS `t5`
) AS `t6`
ORDER BY
  `t6`.`first_month` ASC NULLS LAST
