SELECT
  *
FROM (
  SELECT
    `t3`.`weekday`,
    `t3`.`orders`,
    `t3`.`customers`,
    `t3`.`revenue`,
    ieee_divide(
      CAST(FLOOR((
        ieee_divide(CAST(`t3`.`revenue` AS FLOAT64), `t3`.`orders`) * 1
      ) + 0.5) AS INT64),
      1
    ) AS `average_order_value`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t3`.`revenue` AS FLOAT64),
            NULLIF(
              SUM(`t3`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `revenue_share`
  FROM (
    SELECT
      `t2`.`weekday`,
      COUNT(`t2`.`order_id`) AS `orders`,
      COUNT(DISTINCT `t2`.`customer_id`) AS `customers`,
      SUM(`t2`.`total`) AS `revenue`
    FROM (
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
        CASE
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 0
          THEN '0月'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 1
          THEN '1火'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 2
          THEN '2水'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 3
          THEN '3木'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 4
          THEN '4金'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 5
          THEN '5土'
          WHEN (
            MOD(EXTRACT(dayofweek FROM `t1`.`order_date`) + 5, 7)
          ) = 6
          THEN '6日'
          ELSE NULL
        END AS `weekday`
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
    GROUP BY
      1
  ) AS `t3`
) AS `t4`
ORDER BY
  `t4`.`weekday` ASC NULLS LAST
